//! What `crm-bench-contacts` generates, shared with `crm-bench-scale`:
//! synthetic people (`people`) and an app database filled with them
//! (`generate`).

pub mod generate;
pub mod people;
