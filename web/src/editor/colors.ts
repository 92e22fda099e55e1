// A person's colour, the same in every browser: picked from their user id.
const PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#65a30d']

export function colorOf (userId: string): { color: string, light: string } {
  let hash = 0
  for (const char of userId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  const color = PALETTE[hash % PALETTE.length]
  return { color, light: `${color}33` }
}

export const initials = (name: string): string =>
  name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0]!.toUpperCase()).join('') || '?'
