// Not package main: `go build -o main` writes the package's archive, which is no program.
package notmain

func Hello() string { return "Hello, world!" }
