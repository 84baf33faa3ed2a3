#!/usr/bin/python3
"""Persistent state: what could not be restored is kept, and a corrupt state file stops
the start instead of being overwritten."""
import os
import shutil
import subprocess
import unittest

from harness import SWITCHD, SwitchTestCase


class State(SwitchTestCase):
    def test_unrestorable_port_is_kept_and_comes_back(self):
        d = os.path.join(self.dir, "sub")
        os.mkdir(d)
        self.sw.ctl("add-port", "vm1", "type=vhost-user", "mode=server", "path=" + os.path.join(d, "vm1.sock"))
        self.vm_port("vm2")
        self.sw.ctl("add-flow", "in_port=vm1,actions=output:vm2")
        self.sw.stop()
        shutil.rmtree(d)                                 # vm1's socket cannot be created now
        self.sw.start()
        self.assertEqual([p["name"] for p in self.sw.json("show")["ports"]], ["vm2"])
        self.assertIn("kept in the state file", self.sw.log())
        self.sw.ctl("add-flow", "in_port=vm2,actions=drop")   # a change: the file is rewritten
        self.sw.stop()
        os.mkdir(d)
        self.sw.start()
        self.assertEqual([p["name"] for p in self.sw.json("show")["ports"]], ["vm1", "vm2"])
        self.assertEqual(sorted(f["match"] for f in self.sw.json("dump-flows")["flows"]),
                         ["in_port=vm1", "in_port=vm2"])

    def test_corrupt_state_file_refuses_to_start(self):
        self.sw.stop()
        with open(self.sw.db, "wb") as f:
            f.write(b"\xde\xad\xbe\xef not a state file")
        r = subprocess.run([SWITCHD, "--pmd-cores", "1", "--control-socket", self.sw.sock, "--db", self.sw.db,
                            "--eal", "--no-huge -m 512 --file-prefix %s" % self.sw.prefix],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a valid switchd state file", r.stderr)
        with open(self.sw.db, "rb") as f:
            self.assertTrue(f.read().startswith(b"\xde\xad\xbe\xef"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
