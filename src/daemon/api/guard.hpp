// SPDX-License-Identifier: MIT
// How the API's handlers answer: the model's failures become named
// org.blueratchet.Error.* errors, any other exception Failed, and nothing
// escapes into sdbus-c++ (1.2.0 terminates the process on anything but an
// sdbus::Error) or into the model (its listener must never throw back).
// Internal to src/daemon/api/.
#pragma once

#include <sdbus-c++/Error.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "daemon/api/errors.hpp"
#include "daemon/model.hpp"

namespace br::daemon::api {

// stderr with a journald priority prefix, like the rest of the daemon.
inline void log_error(const std::string& line) {
    std::fprintf(stderr, "<3>api: %s\n", line.c_str());
}

// Error messages are one line.
inline std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

inline const char* error_name(ApiError e) {
    switch (e) {
        case ApiError::NotFound:
            return errors::kNotFound;
        case ApiError::InvalidArgument:
            return errors::kInvalidArgument;
        case ApiError::NotPermitted:
            return errors::kNotPermitted;
        case ApiError::Failed:
            return errors::kFailed;
    }
    return errors::kFailed;
}

// The model's answer, or its failure thrown as the named error.
template <typename T>
T unwrap(ApiResult<T>&& r) {
    if (!r) throw sdbus::Error(error_name(r.error().error), one_line(r.error().message));
    return std::move(*r);
}

// Runs a handler body: sdbus::Error passes (it becomes the error reply),
// anything else becomes org.blueratchet.Error.Failed.
template <typename F>
auto guarded(const char* what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const sdbus::Error&) {
        throw;
    } catch (const std::exception& e) {
        log_error(std::string(what) + ": " + e.what());
        throw sdbus::Error(errors::kFailed, std::string(what) + " failed: " + one_line(e.what()));
    } catch (...) {
        log_error(std::string(what) + ": unknown exception");
        throw sdbus::Error(errors::kFailed, std::string(what) + " failed: internal error");
    }
}

// Model -> API notifications: logged, never thrown back into the model.
template <typename F>
void quietly(const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        log_error(std::string(what) + ": " + e.what());
    } catch (...) {
        log_error(std::string(what) + ": unknown exception");
    }
}

}  // namespace br::daemon::api
