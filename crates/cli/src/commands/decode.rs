//! `taskhunt decode`: peel an encoded or obfuscated PowerShell command line layer by layer.

use anyhow::Result;
use std::process::ExitCode;
use taskhunt_events::text::terminal_safe;

#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The command line (or script, with --script); `-` reads standard input.
    #[arg(value_name = "COMMAND_LINE")]
    input: String,

    /// Treat the input as a script (4104 ScriptBlockText) rather than a command line.
    #[arg(long)]
    script: bool,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let input = if args.input == "-" { std::io::read_to_string(std::io::stdin())? } else { args.input };
    let decoded = if args.script {
        Some(taskhunt_tasks::powershell::decode_script(&input))
    } else {
        taskhunt_tasks::powershell::decode_command_line(&input)
    };
    let Some(d) = decoded else {
        eprintln!("taskhunt: no -EncodedCommand or obfuscation found (try --script for script text)");
        return Ok(ExitCode::from(1));
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (i, layer) in d.layers.iter().enumerate() {
        println!("layer {} ({:?}):", i + 1, layer.kind);
        for line in layer.text.lines() {
            println!("  {}", terminal_safe(line));
        }
    }
    let iocs = &d.iocs;
    for (name, list) in [("urls", &iocs.urls), ("domains", &iocs.domains), ("ips", &iocs.ips), ("paths", &iocs.paths)] {
        if !list.is_empty() {
            println!("{name}: {}", list.iter().map(|s| terminal_safe(s).into_owned()).collect::<Vec<_>>().join(", "));
        }
    }
    for w in &d.warnings {
        eprintln!("taskhunt: warning: {}", terminal_safe(w));
    }
    Ok(ExitCode::SUCCESS)
}
