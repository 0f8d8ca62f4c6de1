#pragma once
// Result<T>: the value of an operation that can fail for an expected reason
// (I/O, bad config, bad request). Bugs are assertions (base/assert.hpp), not
// errors. A small stand-in for std::expected, which GCC 12 does not ship.

#include <string>
#include <utility>
#include <variant>

#include "base/assert.hpp"

namespace meridian {

/// An expected failure, carried to the boundary with its context. `message`
/// is meant for a human: it says what failed and why, without a trailing dot.
struct Error {
  std::string message;
};

/// Either a T or an Error. Accessing the wrong alternative is a bug and
/// aborts.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    MERIDIAN_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  const T& value() const& {
    MERIDIAN_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    MERIDIAN_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  const Error& error() const& {
    MERIDIAN_ASSERT(!ok(), "Result::error() on a value");
    return std::get<1>(state_);
  }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> state_;
};

/// Result of an operation with no value: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    MERIDIAN_ASSERT(!ok_, "Result::error() on success");
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

/// Shorthand for returning a failure: `return fail("no such file ", path);`
template <class... Parts>
Error fail(Parts&&... parts) {
  std::string message;
  (message.append(std::forward<Parts>(parts)), ...);
  return Error{std::move(message)};
}

}  // namespace meridian
