"""Hand-assigned labels for Android, HealthApp, Mac log templates.
Every template was reviewed individually (with example lines from the
structured csv where ambiguous). Templates not listed in OVERRIDES were
judged routine/informational -> normal/high."""
import csv, json, collections

A = 'application'; N = 'network'; AU = 'auth'; S = 'storage'; M = 'memory'
D = 'database'; C = 'configuration'; NO = 'normal'
H = 'high'; L = 'low'

OVERRIDES = {
'Android': {
 'E7': (A, H),    # java.lang.ClassCastException
 'E8': (A, H),    # AndroidRuntimeException: Must execute in UI
 'E23': (A, L),   # applyOptionsLocked: Unknown animationType (E level)
 'E25': (A, L),   # Bad activity token
 'E49': (AU, H),  # getAllCellInfo is blocked by permission manager
 'E50': (AU, H),  # getCellLocation is blocked by permission manager
 'E59': (AU, L),  # caller does not hold REAL_GET_TASKS; limiting output
 'E61': (AU, L),  # same for getTasks
 'E73': (A, L),   # isSimPinSecure mSimDatas is null or empty (E)
 'E75': (NO, L),  # Killing <pid>: empty for 1810s -- routine LRU kill of empty process, not LMK
 'E101': (A, L),  # Process ... has died
 'E107': (A, L),  # registerCallback not in UI.
 'E117': (A, H),  # Scheduling restart of crashed service
 'E121': (AU, L), # Sending non-protected broadcast from system (security hardening warning)
 'E129': (AU, L), # shouldBlockLocation ret:true (location access blocked)
 'E142': (NO, L), # startActivity from non-Activity context; forcing NEW_TASK (auto-corrected)
 'E152': (A, L),  # Unable to start service Intent ... not found (component missing)
},
'HealthApp': {
 'E6': (NO, L),   # checkFirstSyncByType no such data in db (expected on first sync)
 'E23': (C, L),   # ifCanSync not! no cloud version
 'E31': (D, L),   # bulkSaveDetailHiHealthData fail ERR_DATA_INSERT
 'E50': (D, L),   # saveOneDetailData fail
 'E53': (NO, L),  # screen status unknown, think screen on
 'E54': (A, L),   # sendSyncFailedBroadcast
 'E69': (NO, L),  # timeStamp back
 'E73': (D, L),   # uploadStaticsToDB failed
},
'Mac': {
 'E3': (S, L),    # mdworker ImportBailout.Error Asked to exit for Diskarb
 'E9': (A, L),    # .sdef warning ... not a valid type name
 'E10': (N, L),   # Failed to read DnsConfig
 'E11': (A, L),   # (Fig) signalled err
 'E12': (A, L),   # unexpected preroll-complete notification
 'E14': (N, H),   # Byte flume reports host unavailable
 'E15': (N, H),   # crabsWaitForLoad Wait time out -1001
 'E16': (NO, L),  # rejecting report of layer - IQ has not yet begun to update
 'E17': (A, H),   # FigAgglomeratorSetObjectForKey ParamErr NULL key
 'E18': (A, L),   # itemasync_CopyProperty Invalidated
 'E19': (A, L),   # itemasync_SetProperty Invalidated
 'E20': (A, L),   # VideoCodecNotSupported
 'E21': (AU, H),  # connection doesn't have account access
 'E22': (A, L),   # Failed to update account ... ABAddressBookErrorDomain
 'E25': (A, L),   # ERROR: Could not find the disconnected object
 'E26': (N, H),   # CardDAV: Internet connection appears to be offline
 'E27': (N, H),   # CardDAV: request timed out
 'E28': (A, L),   # Refusing to parse PROPPATCH response, content-type text/html
 'E29': (N, H),   # CalDAV account timed out executing operation
 'E30': (N, L),   # CalDAV refresh failed HTTP 502
 'E31': (A, L),   # Adding ... to failed operations
 'E32': (A, L),   # [HID] [Error] Could not make a string ...
 'E37': (NO, L),  # Calling MTActuatorOpen() outside of MTTrackpadHIDManager
 'E40': (A, H),   # Failed to composit image
 'E43': (N, L),   # CrazyIvan46 (networkd stalled-connection probe)
 'E44': (A, L),   # Hashing of the primary key failed. Dropping the journal record
 'E45': (AU, L),  # [QL] No sandbox token for request, it will probably fail
 'E47': (A, L),   # SOAPParser Type not found in EWSItemType
 'E49': (N, L),   # CI46 - Hit by torpedo! (stalled connection killed)
 'E50': (A, L),   # unexpected switch value
 'E51': (AU, H),  # sandboxd deny mach-lookup
 'E52': (AU, H),  # sandboxd deny network-outbound mDNSResponder
 'E73': (A, L),   # NeteaseMusic ERROR: timed out after 15s; mMajorChangePending
 'E74': (C, L),   # -_continuousScroll is deprecated
 'E75': (N, L),   # in6_unlink_ifa: IPv6 address has no prefix
 'E98': (C, L),   # -deviceDeltaY is deprecated
 'E99': (N, L),   # ByteStream read took >1 sec
 'E100': (A, L),  # Unrecognized codec. Failed codec specific check
 'E101': (A, L),  # mv_LookupCodecSupport: Unrecognized codec
 'E109': (N, L),  # Link Down on awdl0 (peer-to-peer interface, routinely cycled)
 'E110': (N, H),  # Link Down on en0
 'E123': (N, H),  # arp_client_transmit failed, Network is down
 'E151': (NO, L), # wlc_dump_aggfifo (driver debug dump)
 'E154': (A, H),  # assertion failed
 'E155': (A, H),  # ASSERTION FAILED
 'E168': (N, H),  # capture: RoamFail
 'E169': (N, H),  # capture: AssocFail
 'E170': (N, H),  # capture: DeauthInd
 'E171': (N, L),  # capture: AuthFail (802.11 link-layer auth, not a principal)
 'E181': (NO, L), # Central manager is not powered on (BT off)
 'E182': (N, H),  # CFNetwork SSLHandshake failed
 'E183': (A, L),  # CFPasteboardCreate failed to create global data
 'E188': (A, L),  # Cocoa scripting error: four character codes
 'E190': (NO, L), # Configuration Notice: ASL Module claims selected messages
 'E191': (C, L),  # ASL modules sharing output destination, overriding params
 'E192': (A, L),  # CoreAnimation: timed out fence
 'E193': (A, L),  # deleted thread with uncommitted CATransaction
 'E195': (A, L),  # Could not get event name ... Request for stale data
 'E196': (A, L),  # Daemon connection invalidated!
 'E197': (D, H),  # DB Error: no such table
 'E202': (AU, L), # dnssd connect() failed ... Operation not permitted (sandbox)
 'E203': (N, L),  # dnssd ConnectToServer retries
 'E209': (N, L),  # en0: manual intervention required!
 'E212': (A, H),  # Error in CoreDragRemoveReceiveHandler
 'E213': (A, H),  # Error in CoreDragRemoveTrackingHandler
 'E214': (A, L),  # Error returned from iconservicesagent: (null)
 'E215': (NO, L), # extension ... -> (null)
 'E217': (A, H),  # Failed to connect outlet: missing setter
 'E218': (A, H),  # Failed to connect outlet: missing setter
 'E219': (A, L),  # Failed to stop a scan - central is not powered on
 'E222': (M, L),  # unnest of DYLD shared region ... increases memory footprint
 'E223': (A, L),  # Got an XPC error: Connection invalid
 'E243': (NO, L), # host XPC connection invalidated
 'E244': (NO, L), # BT Host controller terminated (around sleep)
 'E247': (N, L),  # Internal name did not resolve to internal address!
 'E256': (AU, L), # KeychainGetICDPStatus: keychain: -25300
 'E260': (N, L),  # mDNS Frequent transitions for interface
 'E261': (N, L),
 'E262': (N, L),
 'E263': (N, L),
 'E270': (N, H),  # locationd NETWORK: no response from server
 'E271': (NO, L), # locationd NETWORK: requery
 'E272': (N, H),  # network is not reachable, netbiosd shutting down
 'E273': (AU, L), # taskgated: no application identifier, can't use provisioning profiles
 'E274': (NO, L), # no sleep images for WillPowerOffWithImages
 'E275': (N, H),  # HTTP load failed (kCFStreamErrorDomainSSL)
 'E277': (N, L),  # net_helper_path_evaluation_start failed
 'E278': (C, L),  # objc class implemented in both ... (duplicate install)
 'E279': (C, L),
 'E283': (AU, L), # launchd: Path not allowed in target domain
 'E285': (N, H),  # PBRequester failed: Internet connection offline
 'E286': (N, H),  # PBRequester failed: request timed out
 'E287': (NO, L), # Peripheral manager is not powered on
 'E288': (NO, L), # PM response took ~2000 ms (powerd)
 'E296': (NO, L), # RTC: PowerByCalendarDate setting ignored
 'E297': (AU, H), # Sandbox deny file-read-data
 'E298': (AU, H), # Sandbox deny ipc-posix-shm-read-data
 'E299': (AU, H), # Sandbox deny mach-lookup
 'E300': (AU, H), # Sandbox deny network-outbound
 'E302': (N, L),  # GPUToolsAgent lost transport connection
 'E303': (A, L),  # SecOSStatus paramErr query missing class name
 'E304': (A, L),  # securityd copy_matching paramErr
 'E305': (A, L),  # send_datagram_available_ping: pid failed to act on ping (unresponsive)
 'E306': (C, L),  # Service tried to hijack endpoint
 'E307': (A, H),  # Service exited with abnormal code
 'E312': (A, L),  # ntpd sigio_handler_active != 0
 'E313': (AU, L), # SOSAccount sync failure: Account identity not set
 'E314': (NO, L), # TBT W (2): 0x0040 [x]
 'E315': (NO, L), # closing socket due to TLS CLOSE_NOTIFY (graceful close)
 'E316': (N, H),  # connectx failed: Network is down
 'E317': (N, H),  # connectx failed: Network is unreachable
 'E318': (N, H),  # No network route
 'E319': (N, H),  # TLS session write error
 'E320': (N, H),  # TLS session read error 60
 'E323': (NO, L), # Thermal/Memory pressure state (status, values 0/1)
 'E324': (A, H),  # Unable to simultaneously satisfy constraints
 'E325': (A, H),
 'E326': (N, L),  # Unable to start NetBIOS name service
 'E327': (A, L),  # Unexpected payload found for message
 'E328': (A, L),  # Unrecognized attribute value
 'E329': (A, L),  # Unrecognized XSSimpleTypeDefinition
 'E332': (A, L),  # Found a camera but not able to start it up
 'E335': (NO, L), # Wake reason: ?
 'E340': (NO, L), # WARNING: hibernate skipped xpmapped pages
 'E341': (A, L),  # Type1 font data not in correct format
},
}

import os
BASE = os.path.dirname(os.path.abspath(__file__))
LABELS = {'normal','database','network','auth','storage','memory','application','configuration'}
for sysname, ov in OVERRIDES.items():
    ids = [r['EventId'] for r in csv.DictReader(open(f'{BASE}/{sysname}/{sysname}_2k.log_templates.csv'))]
    assert set(ov) <= set(ids), set(ov) - set(ids)
    out = {}
    for e in ids:
        lab, conf = ov.get(e, (NO, H))
        out[e] = {'label': lab, 'confidence': conf}
    with open(f'{BASE}/{sysname}/labels.json', 'w') as f:
        json.dump(out, f, indent=0)
