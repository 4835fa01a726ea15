// The demo's software identity and terminal: the embedded default config
// registers this AppID and pre-approves this fingerprint for the demo
// accounts, so `npm start` + `npm run demo` work out of the box. Never use
// these values outside a demo.
import type { gatehouse } from './generated/gatehouse.js'

export const DEMO_APP_ID = 'gatehouse-demo-client'
export const DEMO_AUTH_CODE = 'demo-authcode-0123456789abcdef'

export const DEMO_TERMINAL_INFO: gatehouse.v1.TerminalInfo.$Properties = Object.freeze({
  terminalType: 'linux-server',
  collectedTimeUs: 0, // filled in at logon
  ips: ['127.0.0.1'],
  mac: '02:42:ac:11:00:02',
  deviceName: 'demo-host',
  osVersion: 'Linux 6.1',
  diskSerial: '',
  cpuSerial: '',
  bios: '',
  systemDiskPartition: '',
  // Bits 6, 7, 8, 9: disk, CPU, BIOS serials and the Windows-only partition
  // were not collected, as is usual on a Linux VM (docs/domain.md).
  collectFailureMask: 0b11_1100_0000,
  abnormal: false,
})
