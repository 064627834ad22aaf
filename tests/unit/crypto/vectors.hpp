// SPDX-License-Identifier: MIT
// Test-vector loading shared by the unit tests: files are found under
// $BR_VECTORS_DIR (set by meson test), else under the folder compiled in
// (BR_DEFAULT_VECTORS_DIR, the same one: a binary run by hand finds them),
// and parsed with nlohmann-json; hex fields become byte vectors.
#pragma once

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "core/util/bytes.hpp"

namespace br::test {

inline std::string vectors_dir() {
    const char* dir = std::getenv("BR_VECTORS_DIR");
    if (dir != nullptr && *dir != '\0') return dir;
#ifdef BR_DEFAULT_VECTORS_DIR
    return BR_DEFAULT_VECTORS_DIR;
#else
    throw std::runtime_error("BR_VECTORS_DIR is not set");
#endif
}

// Parses $BR_VECTORS_DIR/<relative>; throws (failing the test) if missing.
inline nlohmann::json load_vectors(const std::string& relative) {
    const std::string path = vectors_dir() + "/" + relative;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open test vectors: " + path);
    return nlohmann::json::parse(in);
}

// A hex string field as bytes; throws on malformed hex so a broken vector
// file cannot silently pass.
inline Bytes hex_bytes(const nlohmann::json& field) {
    auto bytes = from_hex(field.get<std::string>());
    if (!bytes) throw std::runtime_error("bad hex in test vectors: " + field.get<std::string>());
    return *bytes;
}

inline bool has_flag(const nlohmann::json& test_case, const std::string& flag) {
    if (!test_case.contains("flags")) return false;
    for (const auto& f : test_case["flags"]) {
        if (f.get<std::string>() == flag) return true;
    }
    return false;
}

// "tcId N (comment)" for failure messages.
inline std::string case_name(const nlohmann::json& test_case) {
    return "tcId " + std::to_string(test_case["tcId"].get<int>()) + " (" +
           test_case.value("comment", std::string()) + ")";
}

}  // namespace br::test
