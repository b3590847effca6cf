//! The `whoami.WhoAmI` gRPC service, generated from `whoami.proto` at build time.
//!
//! A dev-only package of the tower-workos-sso repository, so that the library itself never
//! compiles protobuf code nor gains a build script: only the Tonic example and the tests use it.

#![forbid(unsafe_code)]

tonic::include_proto!("whoami");
