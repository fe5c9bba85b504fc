package main

import (
	"bufio"
	"os"
	"os/exec"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() == "" {
		return
	}
	cmd := exec.Command("/bin/sh", "-c", in.Text())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if cmd.Run() != nil {
		os.Exit(1)
	}
}
