// The workspace the person last worked in, remembered per browser.
const KEY = 'cowrite.workspace'

export const lastWorkspace = (): string | null => localStorage.getItem(KEY)
export const rememberWorkspace = (id: string): void => localStorage.setItem(KEY, id)
