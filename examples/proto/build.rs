//! Compiles `whoami.proto` with no `protoc` on the machine: protox parses it into a descriptor
//! set in pure Rust, then tonic-prost-build generates the messages, the server and the client.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = protox::compile(["whoami.proto"], ["."])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=whoami.proto");
    Ok(())
}
