//! The `tiersim` binary: the command line over the library. Everything
//! that knows about flags, progress bars, colour and Ctrl-C lives in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
