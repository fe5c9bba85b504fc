// A library crate: rustc writes an rlib, which is no program.
#![crate_type = "lib"]

pub fn hello() -> &'static str {
    "Hello, world!"
}
