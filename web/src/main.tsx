import { render } from 'preact'
import { App } from './App'
import { match } from './router'
import './style.css'

const root = document.getElementById('app')!
// A share link's public page needs no account: it is its own small app.
const shared = match('/s/:token', location.pathname)
if (shared) void import('./screens/Shared').then(({ Shared }) => render(<Shared token={shared.token} />, root))
else render(<App />, root)
