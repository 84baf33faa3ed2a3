#!/usr/bin/python3
"""Invalid API requests are rejected with an error naming the bad field or token, and
change nothing (ports, flows, persisted state)."""
import os
import socket
import stat
import struct
import unittest

from harness import SwitchTestCase


class ApiErrors(SwitchTestCase):
    def state(self):
        show = self.sw.json("show")
        ports = [(p["name"], p["port_no"], p.get("options")) for p in show.get("ports", [])]
        flows = [(f.get("priority"), f.get("match"), f.get("actions"))
                 for f in self.sw.json("dump-flows").get("flows", [])]
        with open(self.sw.db, "rb") as f:
            db = f.read()
        return ports, flows, db

    def test_bad_requests_change_nothing(self):
        self.vm_port("vm1")
        self.vm_port("vm2")
        self.sw.ctl("add-flow", "priority=100,in_port=vm1,actions=output:vm2")
        before = self.state()
        bad = [
            (["add-port", "vm3", "type=frobnicator"], "type"),
            (["add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm3"), "queues=33"], "queues"),
            (["add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm3"), "queues=abc"], "queues"),
            (["add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm3"), "ring-size=1000"], "ring-size"),
            (["add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm3"), "mode=sideways"], "mode"),
            (["add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm3"), "colour=blue"], "colour"),
            (["add-port", "vm3", "type=vhost-user"], "path"),
            (["add-port", "vm1", "type=vhost-user", "path=" + self.sock("vmx")], "already exists"),
            (["add-port", "vm3", "type=vhost-user", "path=" + self.sock("vm1")], "already used"),
            (["add-port", "9lives", "type=vhost-user", "path=" + self.sock("x")], "name"),
            (["add-port", "up0", "type=dpdk", "devargs=net_nonexistent0"], "devargs"),
            (["add-port", "up0", "type=dpdk"], "devargs"),
            (["del-port", "nosuch"], "nosuch"),
            (["add-flow", "priority=100,in_port=vm9,actions=output:vm2"], "vm9"),
            (["add-flow", "nw_dst=10.0.0.0/33,actions=drop"], "10.0.0.0/33"),
            (["add-flow", "in_port=vm1,actions=frobnicate"], "frobnicate"),
            (["add-flow", "in_port=vm1"], "actions"),
            (["add-flow", "tp_dst=80,actions=drop"], "tp_dst"),
            (["add-flow", "priority=70000,actions=drop"], "70000"),
            (["del-flows", "in_port=vm9"], "vm9"),
            (["port-stats", "nosuch"], "nosuch"),
            # The VPC router's answering actions, as flows.
            (["add-flow", "udp,actions=dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11)"],
             "dhcp_reply: missing mask="),
            (["add-flow", "udp,actions=dhcp_reply(mac=0a:56:00:00:13:89,server=10.1.0.1,ip=10.1.0.11,"
                          "mask=255.255.255.0,mtu=9),output:vm1"], "mtu: below 68"),
            (["add-flow", "ip,actions=icmp_error(type=8,code=0,src=10.1.0.1)"], "not an error type"),
            (["vpc", "add-subnet", "nosuch", "10.1.0.0/24", "dns=10.1.0.2"], "no VPC named"),
        ]
        for args, needle in bad:
            err = self.sw.ctl_fail(*args)
            self.assertIn(needle, err, (args, err))
            self.assertEqual(self.state(), before, args)
        # Bad DNS servers of a subnet, in a VPC that exists: refused, nothing changes.
        self.sw.ctl("vpc", "create", "blue", "vni=5001")
        before = self.state(), self.sw.ctl("vpc", "show")
        for dns, needle in (("10.1.0.2,dns.example", "dns[1]: 'dns.example' is not an IPv4 address"),
                            ("224.0.0.251", "not a unicast address"),
                            ("1.1.1.1,1.1.1.1", "given twice"),
                            ("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5", "at most 4")):
            err = self.sw.ctl_fail("vpc", "add-subnet", "blue", "10.1.0.0/24", "dns=" + dns)
            self.assertIn(needle, err, (dns, err))
            self.assertIn("subnet.dns", err, err)   # the field is named
            self.assertEqual((self.state(), self.sw.ctl("vpc", "show")), before, dns)
        self.assertAlive()

    def test_add_flows_file_is_atomic(self):
        self.vm_port("vm1")
        self.vm_port("vm2")
        before = self.state()
        path = os.path.join(self.dir, "flows.txt")
        with open(path, "w") as f:
            f.write("# two good, one bad\n"
                    "priority=10,in_port=vm1,actions=output:vm2\n\n"
                    "priority=10,in_port=vm2,actions=output:vm1\n"
                    "priority=5,nw_src=1.2.3.4,actions=drop\n")
        err = self.sw.ctl_fail("add-flows", path)
        self.assertIn("flows.txt:5", err)
        self.assertEqual(self.state(), before)
        with open(path, "w") as f:
            f.write("priority=10,in_port=vm1,actions=output:vm2\npriority=10,in_port=vm2,actions=output:vm1\n")
        self.sw.ctl("add-flows", path)
        self.assertEqual(len(self.sw.json("dump-flows")["flows"]), 2)
        # replace-flows with a bad line (its file line named): nothing changes, not even
        # the flows the file would have deleted.
        before = self.state()
        with open(path, "w") as f:
            f.write("priority=10,in_port=vm1,actions=output:vm2\n"
                    "# a comment\n"
                    "priority=9,in_port=vm3,actions=drop\n")
        err = self.sw.ctl_fail("replace-flows", path)
        self.assertIn("flows.txt:3", err)
        self.assertIn("unknown port 'vm3'", err)
        self.assertEqual(self.state(), before)

    def test_garbage_on_the_socket(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.sw.sock).st_mode), 0o660)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sw.sock)
        s.sendall(struct.pack("!I", 5) + b"\xff\xff\xff\xff\xff")
        hdr = s.recv(4)
        (n,) = struct.unpack("!I", hdr)
        body = b""
        while len(body) < n:
            body += s.recv(n - len(body))
        self.assertIn(b"malformed", body)
        # An oversized frame header gets an error reply, then the connection is closed.
        s.sendall(struct.pack("!I", 1 << 30))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        self.assertIn(b"exceeds the 16 MiB limit", data)
        s.close()
        self.assertAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
