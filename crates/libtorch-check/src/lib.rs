//! Build-time guard with no code of its own: its build script checks that `LIBTORCH` names a
//! libtorch 2.13.0 and otherwise stops the build with one line that says how to get one
//! (`bash scripts/setup.sh`). It has no dependencies, so it fails before torch-sys gets to print
//! its longer, generic message.
