//! Integration tests: the four handlers through the real AWS SDK against moto.
//!
//! One binary, so one moto server serves every test; each test has its own table and
//! queues (see `feedback_tests::TestApp`).

// Everything in this binary is test code: a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod events;
mod hostile_input;
mod idempotency;
mod interceptor_services;
mod ops_kit_copy;
mod ops_kit_examples;
mod pagination;
mod pipeline;
mod queue_consumer;
mod runtime_api;
mod status;
mod telemetry;
