// Writes from followers: a member that does not lead passes a write to the
// leader over the peer transport (ForwardFrame) and relays the leader's
// answer, so clients and the node's own health reports may write through any
// member.
//
// Request body:  u8 version (1), u8 kind (1 client write, 2 system write),
//                the encoded KvCommand (u32 length + bytes).
// Answer body:   u8 version (1), u8 outcome (0 done, else StoreErrorKind+1),
//                message, leader name (u32 length + bytes each), u8 ok,
//                optional current value.

#include "base/byte_codec.hpp"
#include "cluster/raft_member_state.hpp"

namespace meridian::cluster {

namespace {

constexpr std::uint8_t kForwardVersion = 1;
enum class ForwardKind : std::uint8_t { client = 1, system = 2 };
// The last StoreErrorKind an answer may carry: keep it the enum's last value.
constexpr std::uint8_t kLastErrorKind = static_cast<std::uint8_t>(StoreErrorKind::over_budget);

std::string encode_request(ForwardKind kind, const std::string& command) {
  ByteWriter out(command.size() + 8);
  out.u8(kForwardVersion);
  out.u8(static_cast<std::uint8_t>(kind));
  out.bytes(command);
  return std::move(out).take();
}

std::string encode_answer(const store::KvResult& result, const std::optional<StoreError>& error) {
  ByteWriter out(64);
  out.u8(kForwardVersion);
  out.u8(error ? static_cast<std::uint8_t>(error->kind) + 1 : 0);
  out.bytes(error ? error->message : std::string());
  out.bytes(error && error->leader ? *error->leader : std::string());
  out.u8(result.ok ? 1 : 0);
  out.optional_bytes(result.current);
  return std::move(out).take();
}

struct Answer {
  store::KvResult result;
  std::optional<StoreError> error;
};

Result<Answer> decode_answer(std::string_view body) {
  ByteReader in(body);
  if (in.u8() != kForwardVersion) return fail("forwarded answer: unknown version");
  const std::uint8_t outcome = in.u8();
  std::string message = in.bytes(kMaxForwardBytes);
  std::string leader = in.bytes(256);
  Answer answer;
  answer.result.ok = in.u8() == 1;
  answer.result.current = in.optional_bytes(store::kMaxValueBytes);
  if (!in.ok() || !in.at_end() || outcome > kLastErrorKind + 1)
    return fail("forwarded answer: malformed");
  if (outcome != 0) {
    answer.error = StoreError{static_cast<StoreErrorKind>(outcome - 1), std::move(message)};
    if (!leader.empty()) answer.error->leader = std::move(leader);
  }
  return answer;
}

}  // namespace

void RaftMember::Impl::forward(const std::string& command, bool system,
                               StoreCallback<store::KvResult> done) {
  const NodeId leader = raft_->leader();
  if (leader == no_node || leader == id_ || !address_book_.count(leader)) {
    return done({}, not_leader_error("this node is not the leader"));
  }
  const std::uint64_t id = next_forward_id_++;
  forwards_[id] =
      PendingForward{std::chrono::steady_clock::now() + settings_.request_timeout, std::move(done)};
  transport_->send_forward(
      ForwardFrame{id_, leader, id, false,
                   encode_request(system ? ForwardKind::system : ForwardKind::client, command)});
}

void RaftMember::Impl::on_forward(const ForwardFrame& frame) {
  if (!may_speak(frame.from, "forwarded write")) return;
  if (frame.response) {
    auto it = forwards_.find(frame.id);
    if (it == forwards_.end()) return;  // timed out meanwhile
    auto done = std::move(it->second.done);
    forwards_.erase(it);
    auto answer = decode_answer(frame.body);
    if (!answer) return done({}, StoreError{StoreErrorKind::timeout, answer.error().message});
    return done(std::move(answer->result), std::move(answer->error));
  }
  const NodeId from = frame.from;
  const std::uint64_t id = frame.id;
  auto reply = [this, from, id](const store::KvResult& result,
                                const std::optional<StoreError>& error) {
    if (transport_)
      transport_->send_forward(ForwardFrame{id_, from, id, true, encode_answer(result, error)});
  };
  ByteReader in(frame.body);
  const std::uint8_t version = in.u8();
  const std::uint8_t kind = in.u8();
  std::string data = in.bytes(kMaxForwardBytes);
  if (!in.ok() || !in.at_end() || version != kForwardVersion ||
      (kind != static_cast<std::uint8_t>(ForwardKind::client) &&
       kind != static_cast<std::uint8_t>(ForwardKind::system))) {
    return reply({}, StoreError{StoreErrorKind::invalid, "malformed forwarded request"});
  }
  auto command = store::decode_command(data);
  if (!command) return reply({}, StoreError{StoreErrorKind::invalid, command.error().message});
  // Only one hop: a member that is no longer the leader answers "not the
  // leader" rather than forwarding again (no loops while leadership moves).
  propose_command(*command, kind == static_cast<std::uint8_t>(ForwardKind::system), false,
                  std::move(reply));
}

}  // namespace meridian::cluster
