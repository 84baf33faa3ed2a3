# shellcheck shell=bash disable=SC2034,SC2154
# Overlay scenarios of tests/bench/bench.sh (sourced by it, after common.sh and ovs_common.sh):
#   C   VXLAN encap VM -> uplink: testpmd txonly on one virtio-user "VM" -> vm1 -> tunnel push -> uplink
#       net_null (no-rx=1: it only frees what it is given). Mpps = packets sent on the uplink.
#   G   the same with GRE (key 42)
#   Cd  VXLAN decap uplink -> VM: the uplink is DPDK's net_pcap replaying $W/vxlan.pcap (rx_pcap=FILE,
#       infinite_rx=1: VXLAN frames, 64-byte inner, made by overlay_pcap.py), the VM a testpmd rxonly
#       sink. Mpps = packets sent to the VM. The switch PMD itself reads the pcap PMD, so that PMD's rx
#       cost is inside the switch's cycles/packet: R and pcap-rx below measure it.
#   Gd  the same with GRE
#   R   the pcap uplink of Cd with a plain output flow (uplink -> vm1, no tunnel, the 114-byte VXLAN
#       frames delivered as they are): pcap rx + switching + vhost enqueue, the reference Cd's tunnel
#       work comes on top of. Each repetition also runs "pcap-rx": testpmd rxonly on the same pcap vdev
#       alone on SW_CORE (no switch), whose CPU cycles/packet is the pcap PMD's rx + mbuf free.
#   Q1 Q2 Q4 (Q = all three): multiqueue VXLAN encap, 2 VMs x N queues each (testpmd txonly, one
#       forwarding lcore for all 2N queues), one switch PMD; vswitch uplink net_null with tx-queues=2N
#       (a VM queue per uplink queue). tx_shared_locks (vswitch) is reported; it must stay 0.
# Both switches get the same underlay: local VTEP 172.31.255.1/24, VTEP MAC 02:00:00:00:ff:01 (OVS:
# br-phy hwaddr; vswitch: any, it does not check the destination MAC), remote VTEP 172.31.255.2 at
# 02:00:00:00:ff:02 (vswitch add-neighbor, OVS tnl/arp/set), key 42.
# vswitch: ports vm1 [vm2] (vhost-user client, port_no 1 [2]), up0 (type=dpdk, port_no 3), set-uplink
# up0 (creates vxlan0 and gre0), flows
#   encap: in_port=vmN,actions=set_field:42->tun_id,set_field:172.31.255.2->tun_dst,output:vxlan0|gre0
#   decap: in_port=vxlan0|gre0,tun_id=42,actions=output:vm1
# OVS (ovs_common.sh's private OVS, the layout of ovs-baseline.sh's scenario C): br-phy (netdev,
# hwaddr = VTEP MAC) with phy0 (type=dpdk, the same devargs as vswitch's up0, ofport 1); br-int (netdev)
# with the tunnel port (type=vxlan|gre, remote_ip, local_ip, key=42, ofport 2) and vhu0 [vhu1]
# (dpdkvhostuserclient, ofport 1 [3]); the br-phy tap gets 172.31.255.1/24 inside OVS's netns (route),
# tnl/arp/set the neighbor; flows br-int in_port=1[,3] -> output:2 (encap), in_port=2 -> output:1
# (decap); br-phy in_port=LOCAL -> output:1, in_port=1 -> output:LOCAL (native tunnel termination).
# R on OVS: one bridge br0 with phy0 (ofport 1) and vhu0 (ofport 2), in_port=1 -> output:2.

OVL_LOCAL=172.31.255.1 OVL_REMOTE=172.31.255.2 OVL_RMAC=02:00:00:00:ff:02 OVL_MAC=02:00:00:00:ff:01 OVL_KEY=42
OVL_NULL="net_null0,no-rx=1"

is_overlay() { case $1 in C|G|Cd|Gd|R|Q[0-9]*) return 0;; esac; return 1; }
ovl_tun()    { case $1 in G|Gd) echo gre;; *) echo vxlan;; esac; }
ovl_decap()  { case $1 in Cd|Gd|R) return 0;; esac; return 1; }
ovl_queues() { case $1 in Q[0-9]*) echo "${1#Q}";; *) echo 1;; esac; }
ovl_devargs() {     # scen -> uplink devargs
  if ovl_decap $1; then echo "net_pcap0,rx_pcap=$W/$(ovl_tun $1).pcap,infinite_rx=1"; else echo "$OVL_NULL"; fi; }
ovl_desc() {
  case $1 in
  C|G) echo "testpmd txonly 64B -> $(ovl_tun $1) encap -> net_null uplink";;
  Cd|Gd) echo "net_pcap uplink ($(ovl_tun $1), inner 64B) -> decap -> testpmd rxonly; pcap rx inside the switch's cycles";;
  R) echo "net_pcap uplink (VXLAN frames as they are) -> plain output -> testpmd rxonly; no tunnel";;
  Q*) echo "2 VMs x $(ovl_queues $1) queues testpmd txonly 64B -> vxlan encap -> net_null uplink";;
  esac; }

ovl_pcaps() {       # once per bench run
  [ -s $W/vxlan.pcap ] && return 0
  /usr/bin/python3 "$REPO/tests/bench/overlay_pcap.py" $W > $LOG/pcap.txt 2>&1 ||
    die "cannot write the pcap files (needs python3-scapy: ctl/scripts/install-deps.sh): $(tail -2 $LOG/pcap.txt)"
}

# summed tx packet counters of the named vswitch ports (port-stats JSON; 64-bit counters are JSON strings)
vsw_tx_of() { sw --format json port-stats | python3 -c '
import json, sys
names = sys.argv[1:]
print(sum(int(p["tx_packets"]) for p in json.load(sys.stdin)["ports"] if p["name"] in names))' "$@"; }

ovl_vsw_setup() {   # scen -> switch configured, generator started, CNT set
  local s=$1 q t f i vms
  q=$(ovl_queues $s); t=$(ovl_tun $s)
  start_switchd || return 1
  vms=1; [[ $s == Q* ]] && vms=2
  for i in $(seq $vms); do
    sw add-port vm$i type=vhost-user mode=client path=$W/sock/vh$((i - 1)).sock port_no=$i queues=$q $VHOST_OPTS || return 1; done
  if [[ $s == Q* ]]; then sw add-port up0 type=dpdk devargs=$(ovl_devargs $s) port_no=3 tx-queues=$((2 * q)) || return 1
  else sw add-port up0 type=dpdk devargs=$(ovl_devargs $s) port_no=3 || return 1; fi
  if [ $s = R ]; then
    sw add-flow 'in_port=up0,actions=output:vm1' || return 1
  else
    sw set-uplink up0 local-ip=$OVL_LOCAL/24 && sw add-neighbor up0 $OVL_REMOTE $OVL_RMAC || return 1
    if ovl_decap $s; then sw add-flow "in_port=${t}0,tun_id=$OVL_KEY,actions=output:vm1" || return 1
    else for i in $(seq $vms); do
      sw add-flow "in_port=vm$i,actions=set_field:$OVL_KEY->tun_id,set_field:$OVL_REMOTE->tun_dst,output:${t}0" || return 1
    done; fi
  fi
  if ovl_decap $s; then gen rxonly 1 vh0; CNT="vsw_tx_of vm1"
  elif [[ $s == Q* ]]; then gen txonly $q vh0 vh1; CNT="vsw_tx_of up0"
  else gen txonly 1 vh0; CNT="vsw_tx_of up0"; fi
}

ovl_ovs_setup() {   # scen -> private OVS configured, generator started, CNT set
  local s=$1 q t dev
  q=$(ovl_queues $s); t=$(ovl_tun $s); dev=$(ovl_devargs $s)
  ovs_start || return 1
  if [ $s = R ]; then
    vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
      -- add-port br0 phy0 -- set Interface phy0 type=dpdk options:dpdk-devargs=$dev ofport_request=1 || return 1
    vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient \
      options:vhost-server-path=$W/sock/vhu0.sock ofport_request=2 || return 1
    [ "$(vsctl get Interface phy0 ofport)" = 1 ] || { vsctl get Interface phy0 error >&2; return 1; }
    ofctl del-flows br0; ofctl add-flow br0 in_port=1,actions=output:2 || return 1
    gen rxonly 1 vhu0; CNT="ovs_tx_of br0 2" ICNT="ovs_rx_of br0 1"; return 0
  fi
  vsctl add-br br-phy -- set bridge br-phy datapath_type=netdev other-config:hwaddr=$OVL_MAC \
    -- add-port br-phy phy0 -- set Interface phy0 type=dpdk options:dpdk-devargs=$dev ofport_request=1 \
    -- add-br br-int -- set bridge br-int datapath_type=netdev \
    -- add-port br-int ${t}0 -- set Interface ${t}0 type=$t ofport_request=2 \
       options:remote_ip=$OVL_REMOTE options:local_ip=$OVL_LOCAL options:key=$OVL_KEY || return 1
  vsctl add-port br-int vhu0 -- set Interface vhu0 type=dpdkvhostuserclient \
    options:vhost-server-path=$W/sock/vhu0.sock ofport_request=1 || return 1
  if [[ $s == Q* ]]; then vsctl add-port br-int vhu1 -- set Interface vhu1 type=dpdkvhostuserclient \
    options:vhost-server-path=$W/sock/vhu1.sock ofport_request=3 || return 1; fi
  [ "$(vsctl get Interface phy0 ofport)" = 1 ] || { vsctl get Interface phy0 error >&2; return 1; }
  # the underlay exists only inside OVS's netns: the br-phy tap gets the local IP, OVS learns the route
  ip netns exec $OVS_NETNS ip addr add $OVL_LOCAL/24 dev br-phy && ip netns exec $OVS_NETNS ip link set br-phy up || return 1
  for _ in $(seq 50); do appctl ovs/route/show | grep -q 172.31.255 && break; sleep 0.1; done
  appctl tnl/arp/set br-phy $OVL_REMOTE $OVL_RMAC > /dev/null || return 1
  ofctl del-flows br-phy
  ofctl add-flow br-phy in_port=LOCAL,actions=output:1 && ofctl add-flow br-phy in_port=1,actions=output:LOCAL || return 1
  ofctl del-flows br-int
  if ovl_decap $s; then
    ofctl add-flow br-int in_port=2,actions=output:1 || return 1
    gen rxonly 1 vhu0; CNT="ovs_tx_of br-int 1" ICNT="ovs_rx_of br-phy 1"
  elif [[ $s == Q* ]]; then
    ofctl add-flow br-int in_port=1,actions=output:2 && ofctl add-flow br-int in_port=3,actions=output:2 || return 1
    gen txonly $q vhu0 vhu1; CNT="ovs_tx_of br-phy 1" ICNT="ovs_rx_of br-int 1 3"
  else
    ofctl add-flow br-int in_port=1,actions=output:2 || return 1
    gen txonly 1 vhu0; CNT="ovs_tx_of br-phy 1" ICNT="ovs_rx_of br-int 1"
  fi
}

# the datapath actions each scenario must show (checked on the end-of-run dumps)
ovl_expect() {      # switch(vsw|ovs) scen -> regex
  case $1:$2 in
  vsw:C|vsw:G|vsw:Q*) echo 'tunnel_push';; vsw:Cd|vsw:Gd) echo 'tunnel_pop';;
  ovs:C|ovs:G|ovs:Q*) echo 'tnl_push';; ovs:Cd|ovs:Gd) echo 'tnl_pop';;
  *) echo .;; esac; }

# pcap-rx: testpmd rxonly on the decap scenarios' pcap vdev, alone on SW_CORE (its forwarding lcore and
# sleeping main lcore there): the cost of the pcap PMD's rx (alloc, copy from the file's mbufs, ring) and of
# freeing the mbufs, which Cd, Gd and R pay inside the switch. Recorded as "pcap-rx" scenario R:
# Mpps = testpmd's Rx-pps (median of the window's 1 s samples), cyc/pkt = its CPU cycles/packet.
pcap_rx_run() {     # rep try -> returns 1 only if contended
  local tid t0 t1 s0 s1 cpp mpps share
  RUN=pcapR$1-$2; wait_quiet
  # shellcheck disable=SC2086
  bg $LOG/$RUN-gen.out dpdk-testpmd --lcores "0@$SW_CORE,1@$SW_CORE" --main-lcore 1 --no-pci --file-prefix ${TAG}p \
     $GEN_MEM --vdev "net_pcap0,rx_pcap=$W/vxlan.pcap,infinite_rx=1" -- --nb-cores=1 --forward-mode=rxonly \
     --port-topology=loop --burst=32 --total-num-mbufs=16384 --stats-period=1 --record-core-cycles
  GENPID=${PIDS[-1]}
  sleep $((WARM + 2)); tid=$(tid_of $GENPID '^(rte|lcore)-worker-0$')
  s0=$(ticks $GENPID $tid); t0=$(date +%s.%N); local n0; n0=$(grep -c 'Rx-pps' $LOG/$RUN-gen.out)
  sleep $DUR
  t1=$(date +%s.%N); s1=$(ticks $GENPID $tid)
  stop_all
  cpp=$(gen_cpp)
  mpps=$(grep 'Rx-pps' $LOG/$RUN-gen.out | tail -n +$((n0 + 1)) | head -n $DUR | awk '{print $2}' | sort -g |
         awk '{v[NR]=$1} END{if (NR) printf "%.3f", v[int((NR+1)/2)]/1e6; else print "-"}')
  share=$(awk -v s=$((s1 - s0)) -v hz=$HZ -v t0=$t0 -v t1=$t1 'BEGIN{printf "%.2f", s/hz/(t1-t0)}')
  record pcap R "${mpps:--} ${cpp:--} $share 1.00 - - - -"
}
