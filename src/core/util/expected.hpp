// SPDX-License-Identifier: MIT
// A small value-or-error type (std::expected is C++23; GCC 12 lacks it).
// Core functions that can fail for a reason the caller must act on return
// Expected<T, E> with E an enum of named errors; nothing in the core throws
// for bad input.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace br {

template <typename E>
struct Unexpected {
    E error;
};
template <typename E>
Unexpected<E> unexpected(E e) {
    return Unexpected<E>{e};
}

template <typename T, typename E>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Expected(Unexpected<E> u) : v_(std::in_place_index<1>, u.error) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    E error() const {
        assert(!has_value());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, E> v_;
};

// Expected<void, E>: success carries nothing.
template <typename E>
class [[nodiscard]] Expected<void, E> {
  public:
    Expected() = default;
    Expected(Unexpected<E> u) : ok_(false), e_(u.error) {}
    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    E error() const {
        assert(!ok_);
        return e_;
    }

  private:
    bool ok_ = true;
    E e_{};
};

}  // namespace br
