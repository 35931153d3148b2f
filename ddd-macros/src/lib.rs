//! Derive macros of ddd (placeholder until the derives land).
