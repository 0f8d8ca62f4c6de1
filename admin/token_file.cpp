#include "admin/token_file.hpp"

namespace meridian::admin {

std::string trim_token(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

Result<std::string> token_from_file_text(std::string text, const std::string& path) {
  std::string token = trim_token(std::move(text));
  if (token.empty()) return fail(path, " is empty (it should hold the admin token)");
  return token;
}

}  // namespace meridian::admin
