"""Components and updates on the C/S Sec. server: ActiveUpdate downloads, the component
store, the hourly poll, rollback and the update logs (server and client)."""
