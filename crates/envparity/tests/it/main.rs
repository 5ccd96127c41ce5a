//! Black-box tests of the `envparity` binary: real files in a temp folder, the real
//! binary, assertions on exit code, stdout and stderr.

mod access;
mod cli;
mod config_diff;
mod data;
mod example;
mod load;
mod secrets;
mod servers;
mod support;
mod traffic;
mod traffic_formats;
