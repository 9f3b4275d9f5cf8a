//! Helpers shared by the integration tests, one file per purpose:
//! - [`fixtures`]: locating and loading PyTorch's reference values (committed or fresh);
//! - [`specs`]: the fixtures' module specs and building our modules from them;
//! - [`compare`]: tensors held against PyTorch's, bit for bit or within assert_close's
//!   tolerances (defined there, once);
//! - [`printed`]: program outputs held against their twin's across CPUs;
//! - [`nn_grid`], [`init_check`], [`adam_runs`], [`attention_grid`]: the parity checks that both
//!   the fixture tests and the live test run;
//! - [`report`]: the summary line of each parity check;
//! - [`attention_reference`]: multi-head attention from elementary ops, for the differential test;
//! - [`live`]: the project's Python, for the live checks;
//! - [`process`]: the generator lock, temporary directories, expecting errors;
//! - [`ranks`]: distributed jobs of Rust and PyTorch ranks on loopback;
//! - [`nccl`]: c10d's NCCL backend, as far as the machine allows.
//!
//! Each test binary compiles this module on its own and uses only part of it, hence the
//! `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod adam_runs;
pub mod attention_grid;
pub mod attention_reference;
pub mod compare;
pub mod fixtures;
pub mod init_check;
pub mod live;
pub mod nccl;
pub mod nn_grid;
pub mod printed;
pub mod process;
pub mod ranks;
pub mod reference;
pub mod report;
pub mod specs;

pub use compare::{Comparison, Exactness, Tolerance, check, compare_bits};
pub use fixtures::{Fixture, REGENERATE, TensorFile, fixture_path, fixtures_root};
pub use process::{LIBTORCH_TEXT, TempDir, assert_contains_all, check_err, expect_err, randn, rng_lock, run_isolated};
pub use report::{Stats, report};
pub use specs::{ModelPart, Module, ModuleSpec, build_model};
