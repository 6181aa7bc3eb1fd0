/** What the catalogue fold decided for one record (the writer's answer). */
export type CatalogOutcome =
  | { readonly type: 'ok' }
  | { readonly type: 'queue_created'; readonly created: boolean }
  | { readonly type: 'queue_not_found' }
  | { readonly type: 'subscription'; readonly id: string; readonly created: boolean; readonly confirmed: boolean }
  | { readonly type: 'subscription_not_found' }
  | { readonly type: 'subscription_conflict' };
