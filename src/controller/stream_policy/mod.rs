//! The StreamPolicy reconciler: an IAM managed policy rendered from the object's grants (or
//! taken from its raw document), kept below IAM's version limit, attached to the roles named.

pub mod render;
pub mod versions;
