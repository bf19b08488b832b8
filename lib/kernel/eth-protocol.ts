// skb->protocol (ETH_P_*, include/uapi/linux/if_ether.h) and the wire family
// it means, for drops of any protocol (dropwatch -4/-6).
import type { Family } from '../events.js'

export const ETH_P_IP = 0x0800
export const ETH_P_IPV6 = 0x86dd

export function familyOfProtocol(protocol: number): Family | null {
  return protocol === ETH_P_IP ? 4 : protocol === ETH_P_IPV6 ? 6 : null
}

export function protocolOfFamily(family: Family): number {
  return family === 4 ? ETH_P_IP : ETH_P_IPV6
}
