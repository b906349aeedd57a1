//! TODO(schema): family file, being filled in.

use super::PolicySchema;

pub(super) const POLICIES: &[PolicySchema] = &[];
