//! The `tiersim` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    tiersim::cli::main()
}
