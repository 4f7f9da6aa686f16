//! Integration tests of the stage interface: the C header agrees with the Rust ABI types.

mod header;
