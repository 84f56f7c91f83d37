import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { createHttpApi } from './api.js';
import { RouterProvider } from './router.js';
import './styles.css';

const api = createHttpApi();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <RouterProvider>
      <App api={api} origin={window.location.origin} />
    </RouterProvider>
  </StrictMode>,
);
