//! The e-mail channel. So far: parsing and threading of raw messages
//! ([`parse`]), kept apart from the protocol and intake code that will use
//! it.

pub mod parse;
