use std::{
    io::{self, Write},
    process::ExitCode,
};

use appconfig_operator::{
    api::crds,
    cli::{Cli, Command, CrdArgs},
};
use clap::Parser;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Crd(args) => crd(args),
    }
}

fn crd(args: CrdArgs) -> ExitCode {
    let result = match args.output_dir {
        None => io::stdout()
            .write_all(crds::all_to_yaml().as_bytes())
            .map_err(|e| format!("cannot write the CRDs to standard output: {e}")),
        Some(dir) => crds::write_all(&dir)
            .map(|paths| {
                for path in paths {
                    eprintln!("wrote {}", path.display());
                }
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
