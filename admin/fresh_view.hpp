#pragma once
// Private to admin/: answering a request from a fresh status view
// (gslb::NodeApi::fresh_view) on the admin server's thread, where the
// routes that render views (status, sites, services, matrix, /metrics)
// build their answers: rendering 100,000 endpoints is not work for the
// node's health thread, on which the fresh view arrives.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "admin/http_server.hpp"
#include "gslb/node_api.hpp"

namespace meridian::admin {

/// Renders the answer from the view.
using ViewRenderer = std::function<HttpResponse(std::shared_ptr<const gslb::NodeView> view)>;

/// Asks `node` for a view at most a second old, then answers `respond`
/// with `render(view)` on `io` (the admin server's io_context). Any thread.
void answer_when_fresh(gslb::NodeApi& node, boost::asio::io_context& io, Responder respond,
                       ViewRenderer render);

}  // namespace meridian::admin
