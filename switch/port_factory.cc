// Port type dispatch: the one place that knows every port driver.
#include "ethdev_port.h"
#include "port.h"
#include "tunnel_port.h"
#include "vhost_port.h"

namespace vswitch {

std::unique_ptr<Port> create_port(const std::string& name, uint32_t port_no,
                                  const std::string& type, const PortOptions& opts,
                                  const PortEnv& env, std::string& err) {
    if (type == "vhost-user") return VhostPort::create(name, port_no, opts, env, err);
    if (type == "dpdk") return EthdevPort::create(name, port_no, opts, env, err);
    if (type == "vxlan" || type == "gre") return TunnelPort::create(name, port_no, type, opts, err);
    err = "type: '" + type + "' is not a port type (vhost-user, dpdk, vxlan, gre)";
    return nullptr;
}

}  // namespace vswitch
