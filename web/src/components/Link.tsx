import type { ComponentChildren } from 'preact'
import { onLink } from '../router'

export function Link (props: { href: string, class?: string, children: ComponentChildren, 'aria-current'?: 'page' | undefined }) {
  return <a href={props.href} class={props.class} aria-current={props['aria-current']} onClick={(event) => onLink(event, props.href)}>{props.children}</a>
}
