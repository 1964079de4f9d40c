//! The `parley` command: the server and its tools.

fn main() -> std::process::ExitCode {
    parley::cli::main()
}
