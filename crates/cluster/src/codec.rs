//! Extension codecs that carry taskhunt's KQL and SPL functions inside serialized plans.
//!
//! Ballista ships logical plans from the client to the scheduler and physical plans from the
//! scheduler to executors as protobuf; a function is sent by name, with whatever bytes the
//! codec adds. These codecs add, for taskhunt's own functions, the bytes of
//! `taskhunt_query::portable` and make the function again on the other side; everything else
//! (tables, file formats, Ballista's own nodes, DataFusion's built-in functions) goes to
//! Ballista's codecs unchanged. Client, scheduler and executors must all use them.

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use std::sync::Arc;
use taskhunt_query::arrow::datatypes::SchemaRef;
use taskhunt_query::datafusion::catalog::TableProvider;
use taskhunt_query::datafusion::common::{DataFusionError, Result, TableReference};
use taskhunt_query::datafusion::datasource::file_format::FileFormatFactory;
use taskhunt_query::datafusion::execution::TaskContext;
use taskhunt_query::datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use taskhunt_query::datafusion::physical_plan::ExecutionPlan;
use taskhunt_query::portable;

fn encode(f: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(bytes) = portable::encode_udf(f) {
        buf.extend_from_slice(&bytes);
    }
    Ok(())
}

fn decode(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return Err(DataFusionError::Plan(format!("function {name} is neither built in nor one of taskhunt's")));
    }
    portable::decode_udf(name, buf).map_err(DataFusionError::Plan)
}

#[derive(Debug, Default)]
pub struct LogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner.try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(&self, table_ref: &TableReference, node: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode(node, buf)
    }
}

#[derive(Debug, Default)]
pub struct PhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode(node, buf)
    }
}
