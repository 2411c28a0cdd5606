//! The web component's pages. Each page is a view model with an askama
//! template (checked when this crate compiles); the GOV.UK Frontend patterns
//! they share (error summary with inline errors, summary list, radios,
//! notification banner) are the types in [`patterns`]; [`api`] turns the
//! API's JSON answers into view models, so `web-http` only fetches and
//! renders.

pub mod api;
pub mod citizen;
pub mod pages;
pub mod patterns;
pub mod staff;

#[cfg(test)]
mod tests;

pub use pages::*;
pub use patterns::*;
