# Production image for `hookflow api`, `hookflow worker`, `hookflow server` and `hookflow migrate`.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./
COPY --from=build /app/portal/dist ./portal/dist
USER node
ENTRYPOINT ["node", "dist/src/cli/index.js"]
CMD ["api"]
