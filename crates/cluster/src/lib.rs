//! taskhunt's hunts on an Apache Ballista cluster.
//!
//! A scheduler ([`run_scheduler`]) plans queries into stages and hands their tasks to executors
//! ([`run_executor`]), which read the case store's Parquet files themselves: every executor must
//! see the store at the same path as the client (a shared or replicated file system). A client
//! engine ([`remote_engine`]) registers the store's tables in a session connected to the
//! scheduler, so KQL, SPL and SQL, and Sigma rules compiled to expressions, are planned exactly
//! as locally and then run on the cluster. All three roles install the extension codecs of
//! [`codec`], which carry taskhunt's own KQL and SPL functions inside the plans.

pub mod codec;

use ballista::prelude::SessionContextExt;
use ballista_core::extension::SessionConfigExt;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use taskhunt_events::Timestamp;
use taskhunt_query::datafusion::execution::SessionStateBuilder;
use taskhunt_query::datafusion::prelude::{SessionConfig, SessionContext};
use taskhunt_query::{Engine, QueryError};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cluster: {0}")]
    Ballista(String),
    #[error(transparent)]
    Query(#[from] QueryError),
}

impl From<ballista_core::error::BallistaError> for ClusterError {
    fn from(e: ballista_core::error::BallistaError) -> Self {
        ClusterError::Ballista(e.to_string())
    }
}

fn scheduler_config(bind: SocketAddr) -> SchedulerConfig {
    let mut config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        ..SchedulerConfig::default()
    };
    config.override_logical_codec = Some(Arc::new(codec::LogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(codec::PhysicalCodec::default()));
    config
}

/// Runs a scheduler on `listener` until it fails (a process's whole life, or a task's in tests).
pub async fn run_scheduler(listener: tokio::net::TcpListener) -> Result<(), ClusterError> {
    let bind = listener.local_addr().map_err(|e| ClusterError::Ballista(e.to_string()))?;
    let config = Arc::new(scheduler_config(bind));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config).await?;
    start_grpc_service_with_listener(listener, scheduler).await?;
    Ok(())
}

/// Where an executor listens and which scheduler it serves.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler: SocketAddr,
    /// Address the executor binds and advertises.
    pub host: String,
    /// Arrow Flight port (shuffle data) and gRPC port.
    pub flight_port: u16,
    pub grpc_port: u16,
    /// Tasks run at once (default: the cores).
    pub concurrent_tasks: usize,
    /// Shuffle files.
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until it stops.
pub async fn run_executor(opts: ExecutorOptions) -> Result<(), ClusterError> {
    let config = ExecutorProcessConfig {
        bind_host: opts.host.clone(),
        external_host: Some(opts.host.clone()),
        port: opts.flight_port,
        grpc_port: opts.grpc_port,
        scheduler_host: opts.scheduler.ip().to_string(),
        scheduler_port: opts.scheduler.port(),
        scheduler_connect_timeout_seconds: 30,
        vcores: opts.concurrent_tasks.max(1),
        work_dir: opts.work_dir.as_ref().map(|p| p.to_string_lossy().into_owned()),
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(codec::LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(codec::PhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}

/// An engine whose queries run on the cluster at `url` (`df://HOST:PORT`), over the case store
/// `store` (which the executors must see at the same absolute path).
pub fn remote_engine(url: &str, store: &Path, now: Timestamp) -> Result<Engine, ClusterError> {
    let url = url.to_string();
    let engine = Engine::with_session(now, move || async move {
        let config = Engine::session_config(SessionConfig::new_with_ballista())
            .with_ballista_logical_extension_codec(Arc::new(codec::LogicalCodec::default()))
            .with_ballista_physical_extension_codec(Arc::new(codec::PhysicalCodec::default()));
        let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
        SessionContext::remote_with_state(&url, state).await.map_err(QueryError::from)
    })?;
    engine.register_store(store)?;
    Ok(engine)
}
