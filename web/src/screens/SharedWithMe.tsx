// `/shared`: every document the person is listed on.
import { SharedList } from '../components/SharedList'

export function SharedWithMe () {
  return (
    <main class="page narrow">
      <h1>Shared with me</h1>
      <SharedList heading="Documents you are listed on" />
    </main>
  )
}
