//! The layer on servers other than axum: Tonic gRPC (and gRPC-web), and plain Hyper with
//! tower-http around it.

mod grpc;
mod hyper_login;
