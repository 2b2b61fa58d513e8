//! Pure domain logic: no `worker` types, unit-tested natively with `cargo test`.

pub mod clock;
pub mod email;
pub mod fields;
pub mod ticket;
pub mod validation;
