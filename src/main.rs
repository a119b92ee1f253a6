//! The `completeness` binary: parse, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    completeness::cli::output::end_quietly_on_closed_pipe();
    let cli = completeness::cli::Cli::parse();
    let json = cli.json;
    match completeness::cli::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if json {
                println!("{}", err.to_json());
            }
            let stderr = completeness::cli::wrap::Stream::Stderr;
            completeness::cli::wrap::print(&format!("error: {err}\n"), stderr);
            ExitCode::from(err.exit_code())
        }
    }
}
