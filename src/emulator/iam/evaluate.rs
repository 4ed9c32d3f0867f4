//! Policy evaluation.
