#include "admin/fresh_view.hpp"

#include <boost/asio/post.hpp>

namespace meridian::admin {

void answer_when_fresh(gslb::NodeApi& node, boost::asio::io_context& io, Responder respond,
                       ViewRenderer render) {
  node.fresh_view([&io, respond = std::move(respond),
                   render = std::move(render)](std::shared_ptr<const gslb::NodeView> view) mutable {
    boost::asio::post(io, [respond = std::move(respond), render = std::move(render),
                           view = std::move(view)]() mutable { respond(render(std::move(view))); });
  });
}

}  // namespace meridian::admin
