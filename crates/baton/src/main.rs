//! `baton`: the one binary. Parses the command line and configuration, sets up
//! logging, opens the database and runs a command. Holds no domain logic.

mod cli;
mod commands;
mod config;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let config = match config::Config::load(&cli.global) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("baton: {e}");
            return ExitCode::from(2);
        }
    };
    config::init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("baton: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("baton: {e:#}");
            ExitCode::FAILURE
        }
    }
}
