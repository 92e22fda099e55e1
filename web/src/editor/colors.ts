// A person's colour, the same in every browser: picked from their user id.
const PALETTE = ['#1d4ed8', '#be185d', '#047857', '#b45309', '#6d28d9', '#b91c1c', '#0e7490', '#4d7c0f']

export function colorOf (userId: string): { color: string, light: string } {
  let hash = 0
  for (const char of userId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  const color = PALETTE[hash % PALETTE.length]
  return { color, light: `${color}33` }
}

export const initials = (name: string): string =>
  name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0]!.toUpperCase()).join('') || '?'
