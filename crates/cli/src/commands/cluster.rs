//! `taskhunt cluster scheduler|executor`: the two roles of an Apache Ballista cluster that runs
//! `query --cluster` and `detect --cluster`, with taskhunt's plan codecs installed.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// Run a scheduler: clients connect to it with `--cluster df://HOST:PORT`.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
    },
    /// Run an executor for a scheduler; it reads the case store's files itself, so it must see
    /// the store at the path clients give.
    Executor {
        /// The scheduler's address.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: SocketAddr,
        /// Address to listen on and to advertise to the scheduler and other executors.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Arrow Flight port (shuffle data between stages).
        #[arg(long, default_value_t = 50051)]
        flight_port: u16,
        /// gRPC port.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Tasks run at once (default: the cores).
        #[arg(long, value_name = "N")]
        concurrent_tasks: Option<usize>,
        /// Where shuffle files go (default: a temporary folder).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
    },
}

pub fn run(cmd: ClusterCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    match cmd {
        ClusterCommand::Scheduler { bind } => runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
            eprintln!("taskhunt: scheduler listening on {bind} (clients: --cluster df://{bind})");
            taskhunt_cluster::run_scheduler(listener).await.map_err(|e| anyhow::anyhow!("{e}"))
        })?,
        ClusterCommand::Executor { scheduler, host, flight_port, grpc_port, concurrent_tasks, work_dir } => {
            let opts = taskhunt_cluster::ExecutorOptions {
                scheduler,
                host,
                flight_port,
                grpc_port,
                concurrent_tasks: concurrent_tasks.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
                work_dir,
            };
            eprintln!("taskhunt: executor for scheduler {scheduler} (flight {flight_port}, grpc {grpc_port})");
            runtime.block_on(taskhunt_cluster::run_executor(opts)).map_err(|e| anyhow::anyhow!("{e}"))?
        }
    }
    Ok(ExitCode::SUCCESS)
}
