// The commit this binary was built from. A release build may overwrite this file before
// `swift build -c release` (docs/operations.md, "Version"); a development build says "unknown".
let buildCommit = "unknown"
