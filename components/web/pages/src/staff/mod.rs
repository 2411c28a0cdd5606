//! The staff console's pages beyond search: a contact record in sections,
//! adding a contact ("tell us once"), correcting one, recording an
//! interaction, sending a message, and cases. Each module holds its pages
//! (view models with `staff_*.html` templates) and reads the API's answers
//! into them.

pub mod audit;
pub mod cases;
pub mod correct;
pub mod details;
pub mod intake;
pub mod interaction;
pub mod notify;
pub mod record;
pub mod reports;

#[cfg(test)]
mod tests;
