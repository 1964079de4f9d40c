//! The `parley` command: the server and its tools.

/// mimalloc: with many connections and short-lived buffers it keeps the
/// server's memory close to what is in use (the system allocator kept
/// freed memory in its per-thread arenas; see BENCHMARKS.md, web chat).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    parley::cli::main()
}
